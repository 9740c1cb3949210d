() => {
  // Installed once per page: click routing, the seconds counter, copying, chat autoscroll.
  if (window.__ltReady) return;
  window.__ltReady = true;
  const started = {};
  setInterval(() => {
    for (const el of document.querySelectorAll('.lt-elapsed')) {
      const key = el.dataset.key;
      started[key] = started[key] || Date.now();
      const s = String(Math.floor((Date.now() - started[key]) / 1000));
      if (el.textContent !== s) el.textContent = s;
    }
  }, 250);
  const copy = async (button) => {
    const text = button.closest('.lt-msg').querySelector('.lt-answer-text').innerText;
    try { await navigator.clipboard.writeText(text); } catch (err) {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      document.execCommand('copy'); area.remove();
    }
    const label = button.textContent;
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  document.addEventListener('click', (event) => {
    const button = event.target.closest('.lt-copy');
    if (button) { copy(button); return; }
    // A link to an article's original opens as a link, not the viewer of the card it sits in.
    if (event.target.closest('a[href]')) return;
    const link = event.target.closest('#lt-chat [data-target], #lt-sources [data-target]');
    if (!link) return;
    event.preventDefault();
    window.__ltTarget = link.dataset.target;
    for (const card of document.querySelectorAll('#lt-sources .lt-card.open')) card.classList.remove('open');
    const card = document.querySelector('#lt-sources .lt-card[data-n="' + JSON.parse(link.dataset.target).n + '"]');
    if (card) card.classList.add('open');
    document.querySelector('#lt-open').click();
  });
  document.addEventListener('keydown', (event) => {
    if ((event.key === 'Enter' || event.key === ' ') && event.target.matches('.lt-card[data-target]')) {
      event.preventDefault();
      event.target.click();
    }
  });
  new MutationObserver((mutations) => {
    const changed = mutations.some((m) => m.target.nodeType === 1 && m.target.closest('#lt-chat')
      && !m.target.closest('.lt-elapsed'));
    const box = changed && document.querySelector('#lt-chat .lt-log');
    if (box) box.scrollTop = box.scrollHeight;
  }).observe(document.body, { childList: true, subtree: true });
}
