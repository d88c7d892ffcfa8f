// Every page: the language switcher applies the choice at once (without a script its
// "Change" button does).
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.form.classList.add("autosubmit");
  select.addEventListener("change", () => select.form.requestSubmit());
}
