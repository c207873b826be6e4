// The printable work order: its Print button (no inline handlers under the content security policy).
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
}());
