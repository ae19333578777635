// What the page needs from the browser on every tab: names for the controls Gradio draws
// without one. Gradio re-renders its components, so this runs again whenever the page changes.
(() => {
  const fileTitle = (src) => decodeURIComponent((src || "").split("?")[0].split("/").pop() || "")
    .replace(/\.[a-z0-9]+$/i, "").replace(/[_-]+/g, " ");
  const name = () => {
    // Example thumbnails are buttons holding only a picture.
    document.querySelectorAll("button.gallery-item:not([aria-label])").forEach((button) => {
      const img = button.querySelector("img");
      if (!img) return;
      button.setAttribute("aria-label", `Example image: ${fileTitle(img.getAttribute("src"))}`);
      img.setAttribute("alt", "");
    });
    // An empty upload area's spoken name must contain the words it shows.
    document.querySelectorAll("button.upload-container[aria-label]").forEach((button) => {
      const shown = button.innerText.replace(/\s+/g, " ").trim();
      if (shown) button.removeAttribute("aria-label");
    });
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; name(); });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();

// The block diagram: choosing a box shows its step's picture and says what the step does.
(() => {
  const choose = (chosen) => {
    const host = chosen.closest(".pf-diagram");
    if (!host) return;
    host.querySelectorAll(".pf-box").forEach((b) => b.setAttribute("aria-pressed", String(b === chosen)));
    const step = chosen.dataset.shows;
    host.querySelectorAll(".pf-pick").forEach((figure) => { figure.hidden = !step || figure.dataset.pick !== step; });
    const note = host.querySelector(".pf-pick-note");
    if (note) {
      note.replaceChildren();
      const name = document.createElement("b");
      name.textContent = `${chosen.dataset.label}: `;
      note.append(name, chosen.dataset.note);
    }
  };
  const boxOf = (event) => event.target.closest && event.target.closest(".pf-box");
  document.addEventListener("click", (event) => { const b = boxOf(event); if (b) choose(b); });
  document.addEventListener("keydown", (event) => {
    const b = boxOf(event);
    if (b && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); choose(b); }
  });
})();

// A before/after comparison wherever it is shown (Inside the block, the lesson): the range input,
// moved by pointer or arrow keys, moves the line between the two pictures.
document.addEventListener("input", (event) => {
  const range = event.target;
  if (!range.matches || !range.matches(".pf-split")) return;
  const frame = range.closest(".pf-compare")?.querySelector(".pf-compare-frame");
  if (frame) frame.style.setProperty("--pf-split", `${range.value}%`);
});
