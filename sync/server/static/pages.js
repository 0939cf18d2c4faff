// The librarian's pages' only script, a file because the Content-Security-Policy allows no inline script:
// a button marked data-print prints the page.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
