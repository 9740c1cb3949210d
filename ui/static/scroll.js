() => {
  // After the viewer is filled: bring the highlighted span into view (inside the article and on the page).
  const until = Date.now() + 5000;
  const tick = () => {
    const article = document.querySelector('#lt-viewer .lt-article');
    const hit = article && article.dataset.key === window.__ltTarget && article.querySelector('mark.lt-hit');
    if (hit) {
      // Centre the span inside the article box, then move the page only as far as needed.
      const box = article.querySelector('.lt-article-body');
      box.scrollTop = Math.max(0, hit.offsetTop - box.clientHeight / 3);
      hit.scrollIntoView({ block: 'nearest', behavior: 'instant' });
      return;
    }
    if (Date.now() < until) requestAnimationFrame(tick);
  };
  tick();
}
