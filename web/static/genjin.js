// The dashboard's only script, served from this server (the CSP allows no other).
// A sign-in link's page posts its form at once: the link is spent by this POST, never by a preview's GET.
// A filter form submits when a choice changes, so a phone needs no extra tap.
document.addEventListener("DOMContentLoaded", function () {
  var login = document.querySelector("form[data-auto]");
  if (login) { login.submit(); }
  document.querySelectorAll("form.auto select, form.auto input[type=checkbox]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
});
