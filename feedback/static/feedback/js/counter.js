// Turns the hint under the comment box into a live "n / 2000" count. The page works without it.
document.querySelectorAll("textarea[data-counter]").forEach((box) => {
  const counter = document.getElementById(box.dataset.counter);
  if (!counter) return;
  const limit = box.maxLength > 0 ? box.maxLength : 2000;
  const update = () => {
    counter.textContent = `${box.value.length} / ${limit}`;
  };
  counter.setAttribute("aria-live", "polite");
  box.addEventListener("input", update);
  update();
});
