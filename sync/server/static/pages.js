// The librarian's pages' only script, a file because the Content-Security-Policy allows no inline script.
// A button marked data-print prints the page.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});

// A bar marked data-fill="N" is filled N per cent (set here: a style attribute would be inline style).
document.addEventListener("DOMContentLoaded", () => {
  for (const bar of document.querySelectorAll("[data-fill]")) {
    bar.style.width = `${Math.min(100, Math.max(0, Number(bar.dataset.fill) || 0))}%`;
  }
});
