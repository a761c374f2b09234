// Live "n / 2000" counter under the comment box. The page works without it.
document.querySelectorAll("textarea[data-counter]").forEach((box) => {
  const counter = document.getElementById(box.dataset.counter);
  if (!counter) return;
  const limit = box.maxLength > 0 ? box.maxLength : 2000;
  const update = () => {
    counter.textContent = `${box.value.length} / ${limit}`;
  };
  counter.hidden = false;
  box.addEventListener("input", update);
  update();
});
