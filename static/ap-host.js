// The host side of AP on Junction's pages that frame apps: answers what an app's page asks
// over postMessage (static/ap-iframe.js is the other side). A message is believed only when it
// comes from one of this page's app frames, from exactly the origin that frame was given, on
// that frame's channel; anything else is ignored. Answers go only to that frame and origin.
(function () {
  'use strict';
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  var MAX_HEIGHT = 10000;

  function frames() { return Array.prototype.slice.call(document.querySelectorAll('iframe.app-frame')); }
  function frameOf(source) {
    return frames().filter(function (f) { return f.contentWindow === source; })[0] || null;
  }

  function post(f, message) {
    if (f.contentWindow) f.contentWindow.postMessage(Object.assign({ junctionAp: 1, channel: f.dataset.channel }, message), f.dataset.appOrigin);
  }

  // A length the page accepts: a number of pixels (capped) or a percentage; nothing else.
  function length(value, cap) {
    if (value === null || value === undefined) return null;
    var m = /^(\d+(?:\.\d+)?)(px|%)?$/.exec(String(value).trim());
    if (!m) return null;
    if (m[2] === '%') return Math.min(parseFloat(m[1]), 100) + '%';
    return Math.min(parseFloat(m[1]), cap) + 'px';
  }

  function form(data) {
    var body = new URLSearchParams(data || {});
    body.set('csrf', csrf);
    return body;
  }

  function json(response) {
    return response.json().then(function (j) {
      if (!response.ok) throw { message: (j.errors && j.errors[0] && j.errors[0].message) || ('HTTP ' + response.status), status: response.status, body: j };
      return j;
    });
  }

  function flag(id, o) {
    var box = document.getElementById('app-flags');
    if (!box) return;
    var el = document.createElement('div');
    var kind = ['success', 'error', 'warning', 'info'].indexOf(o.type) >= 0 ? o.type : 'info';
    el.className = 'app-flag ' + kind;
    el.dataset.flag = id;
    var close = document.createElement('button');
    close.type = 'button'; close.textContent = '×'; close.setAttribute('aria-label', 'Dismiss');
    close.addEventListener('click', function () { el.remove(); });
    var title = document.createElement('strong'); title.textContent = String(o.title || '');
    var body = document.createElement('div'); body.textContent = String(o.body || '');
    el.append(close, title, body);
    box.append(el);
    if (o.close === 'auto') setTimeout(function () { el.remove(); }, 5000);
  }

  // A module of the same app in a modal dialog, framed like any other (its src signed by Junction).
  function openDialog(opener, o) {
    if (!/^[a-zA-Z0-9-]{1,128}$/.test(String(o.key || ''))) return Promise.reject({ message: 'AP.dialog.create needs the key of one of the app\'s modules.' });
    return fetch(opener.dataset.pageBase + encodeURIComponent(o.key) + '?as=src', { credentials: 'same-origin' })
      .then(json)
      .then(function (d) {
        if (d.origin !== opener.dataset.appOrigin) throw { message: 'A dialog shows a module of the same app.' };
        var dialog = document.createElement('dialog');
        dialog.className = 'app-dialog';
        dialog.setAttribute('aria-label', d.title);
        var f = document.createElement('iframe');
        f.className = 'app-frame';
        f.title = d.title + ' (' + d.app + ')';
        f.setAttribute('sandbox', opener.getAttribute('sandbox'));
        f.setAttribute('referrerpolicy', 'no-referrer');
        f.dataset.appOrigin = d.origin; f.dataset.channel = d.channel; f.dataset.installation = d.installation;
        f.dataset.appKey = d.appKey; f.dataset.pageBase = d.pageBase; f.dataset.context = d.context;
        var h = length(o.height, MAX_HEIGHT); if (h) f.style.height = h;
        var w = length(o.width, 2000); if (w) dialog.style.width = w;
        f._customData = o.customData === undefined ? null : o.customData;
        f._opener = opener;
        f.src = d.src;
        var bar = document.createElement('div');
        bar.className = 'app-dialog-bar';
        var title = document.createElement('strong'); title.textContent = d.title;
        var close = document.createElement('button');
        close.type = 'button'; close.className = 'secondary'; close.textContent = 'Close';
        close.addEventListener('click', function () { dialog.close(); });
        bar.append(title, close);
        dialog.append(bar, f);
        document.body.append(dialog);
        dialog.addEventListener('close', function () { dialog.remove(); });
        dialog.showModal();
      });
  }

  // The app asked to act for the person, who has not granted it: offer the consent page (which
  // brings them back here), never grant on their behalf.
  function askForAccess(f) {
    if (document.getElementById('app-access-ask')) return;
    var dialog = document.createElement('dialog');
    dialog.id = 'app-access-ask';
    dialog.className = 'app-dialog';
    dialog.setAttribute('aria-labelledby', 'app-access-ask-title');
    var box = document.createElement('section');
    box.className = 'card';
    var h = document.createElement('h2'); h.id = 'app-access-ask-title';
    h.textContent = f.title.replace(/^.*\((.*)\)$/, '$1') + ' asks to act for you';
    var p = document.createElement('p');
    p.textContent = 'The app needs your permission before it uses Junction as you. Review what it may do, then grant or deny.';
    var review = document.createElement('a');
    review.className = 'button'; review.id = 'app-access-review';
    review.href = '/apps/' + f.dataset.installation + '/grant?next=' + encodeURIComponent(window.location.pathname + window.location.search);
    review.textContent = 'Review access';
    var later = document.createElement('button');
    later.type = 'button'; later.id = 'app-access-later'; later.className = 'secondary'; later.textContent = 'Not now';
    later.addEventListener('click', function () { dialog.close(); });
    box.append(h, p, review, document.createTextNode(' '), later);
    dialog.append(box);
    document.body.append(dialog);
    dialog.addEventListener('close', function () { dialog.remove(); });
    dialog.showModal();
  }

  var cookieKey = function (f, name) { return 'ap-cookie:' + f.dataset.appKey + ':' + name; };

  var methods = {
    'resize': function (f, w, h) {
      var width = length(w, 4000), height = length(h, MAX_HEIGHT);
      if (width) f.style.width = width;
      if (height) f.style.height = height;
    },
    'sizeToParent': function (f) {
      f.style.width = '100%';
      f.style.height = Math.max(150, window.innerHeight - f.getBoundingClientRect().top - 24) + 'px';
    },
    'navigator.go': function (f, target, context) {
      context = context || {};
      if (target === 'addonmodule' && /^[a-zA-Z0-9-]{1,128}$/.test(String(context.moduleKey || ''))) {
        window.location.assign(f.dataset.pageBase + encodeURIComponent(context.moduleKey));
      } else if (target === 'dashboard' || target === 'home') {
        window.location.assign('/');
      } else {
        throw { message: 'AP.navigator.go: Junction does not know the target ' + JSON.stringify(String(target)) + '.' };
      }
    },
    'navigator.reload': function () { window.location.reload(); },
    'navigator.getLocation': function () { return window.location.href; },
    'context.getContext': function (f) { return f.dataset.context ? JSON.parse(f.dataset.context) : {}; },
    'context.getToken': function (f) {
      return fetch('/apps/' + f.dataset.installation + '/context-token', { method: 'POST', credentials: 'same-origin', body: form() })
        .then(json).then(function (j) { return j.token; });
    },
    'request': function (f, o) {
      o = o || {};
      var call = function () {
        return fetch('/apps/' + f.dataset.installation + '/request', {
          method: 'POST', credentials: 'same-origin',
          body: form({ url: String(o.url || ''), type: String(o.type || 'GET'), data: o.data === undefined ? '' : (typeof o.data === 'string' ? o.data : JSON.stringify(o.data)), contentType: String(o.contentType || '') })
        });
      };
      return call().then(function (r) {
        return r.text().then(function (text) {
          var xhr = { status: r.status, statusText: r.statusText, responseText: text, contentType: r.headers.get('content-type') };
          if (r.ok) return { body: text, xhr: xhr };
          if (r.status === 403 && /APP_ACCESS_NOT_GRANTED/.test(text)) askForAccess(f);
          throw { message: 'HTTP ' + r.status, xhr: xhr };
        });
      });
    },
    'flag.create': function (f, id, o) { flag(String(id), o || {}); },
    'flag.close': function (f, id) {
      var el = document.querySelector('[data-flag="' + CSS.escape(String(id)) + '"]');
      if (el) el.remove();
    },
    'dialog.create': function (f, o) { return openDialog(f, o || {}); },
    'dialog.close': function (f, data) {
      var dialog = f.closest('dialog.app-dialog');
      if (!dialog) return;
      if (f._opener) post(f._opener, { event: 'dialog.close', data: data });
      dialog.close();
    },
    'dialog.getCustomData': function (f) { return f._customData === undefined ? null : f._customData; },
    'cookie.save': function (f, name, value, days) {
      var expires = days ? Date.now() + Number(days) * 86400000 : null;
      localStorage.setItem(cookieKey(f, name), JSON.stringify({ value: value, expires: expires }));
    },
    'cookie.read': function (f, name) {
      var stored = localStorage.getItem(cookieKey(f, name));
      if (!stored) return undefined;
      var c = JSON.parse(stored);
      if (c.expires && c.expires < Date.now()) { localStorage.removeItem(cookieKey(f, name)); return undefined; }
      return c.value;
    },
    'cookie.erase': function (f, name) { localStorage.removeItem(cookieKey(f, name)); }
  };

  window.addEventListener('message', function (e) {
    var f = frameOf(e.source);
    var m = e.data;
    if (!m || m.junctionAp !== 1) return;
    if (!f || e.origin !== f.dataset.appOrigin || m.channel !== f.dataset.channel) {
      console.warn('Junction ignored a message to an app frame from ' + e.origin + ': not the app it shows.');
      return;
    }
    var method = Object.prototype.hasOwnProperty.call(methods, m.method) ? methods[m.method] : null;
    var outcome = new Promise(function (resolve) {
      if (!method) throw { message: 'AP has no ' + String(m.method) + ' here.' };
      resolve(method.apply(null, [f].concat(Array.isArray(m.args) ? m.args : [])));
    });
    outcome.then(function (result) { if (m.id) post(f, { id: m.id, result: result === undefined ? null : result }); },
                 function (err) { if (m.id) post(f, { id: m.id, error: { message: String((err && err.message) || err), xhr: err && err.xhr } }); });
  });
})();
