// What the staff pages' scripts share (desk, security, handover): a sentence of the page's own
// catalogue with its {placeholders} filled, and a CSRF-protected POST form like those the page
// renders. Loaded on every page by base.html, before the page's own script.
var KioskPage = (function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined || values[key] === null ? "" : String(values[key]);
    });
  }

  function postForm(action, className) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = action;
    form.className = className;
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    form.append(token);
    return form;
  }

  return {fill: fill, postForm: postForm};
}());
