// The printable list: the Print button opens the browser's print dialog (no inline script: CSP).
(function () {
  "use strict";
  var button = document.getElementById("print-now");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
}());
