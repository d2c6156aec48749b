// Junction's AP: the script a Connect app's page loads inside its iframe (ACE apps: set
// AC_HOST_SCRIPT_URL or hostScriptUrl to <Junction>/atlassian-connect/all.js). It gives the
// page the AP API apps call and carries each call to the Junction page around the frame over
// postMessage — only to the host named by xdm_e, and it only believes answers from that host.
(function () {
  'use strict';
  if (window.AP && window.AP.junction) return;
  var params = new URLSearchParams(window.location.search);
  var host;
  try { host = new URL(params.get('xdm_e')).origin; } catch (e) { host = null; }
  var channel = params.get('xdm_c') || '';
  var framed = window.parent && window.parent !== window && host;
  var pending = {};
  var listeners = {};
  var next = 1;
  var autoresize = true;

  function send(method, args, wantsAnswer) {
    if (!framed) return Promise.reject(new Error('AP: this page is not framed by Junction'));
    var id = wantsAnswer ? 'ap-' + (next++) : null;
    var answer = id ? new Promise(function (resolve, reject) { pending[id] = [resolve, reject]; }) : Promise.resolve();
    window.parent.postMessage({ junctionAp: 1, channel: channel, id: id, method: method, args: args || [] }, host);
    return answer;
  }

  window.addEventListener('message', function (e) {
    if (e.origin !== host || e.source !== window.parent) return;
    var m = e.data;
    if (!m || m.junctionAp !== 1 || m.channel !== channel) return;
    if (m.event) {
      (listeners[m.event] || []).slice().forEach(function (f) { try { f(m.data); } catch (err) { console.error(err); } });
      return;
    }
    var p = pending[m.id];
    if (!p) return;
    delete pending[m.id];
    if (m.error) p[1](m.error); else p[0](m.result);
  });

  // A callback as the last argument, a promise as the answer: apps use either.
  function both(promise, callback) {
    if (typeof callback === 'function') promise.then(function (v) { callback(v); }, function (err) { callback(undefined, err); });
    return promise;
  }

  function size(value) {
    if (value === undefined || value === null || value === '') return null;
    return typeof value === 'number' ? value + 'px' : String(value);
  }

  function height() {
    var b = document.body, d = document.documentElement;
    return Math.max(b ? b.scrollHeight : 0, b ? b.offsetHeight : 0, d.offsetHeight, d.scrollHeight);
  }

  var AP = {
    junction: true,
    resize: function (width, h) {
      autoresize = false;
      send('resize', [size(width), size(h === undefined ? height() : h)]);
    },
    sizeToParent: function () { autoresize = false; send('sizeToParent', []); },
    navigator: {
      go: function (target, context) { send('navigator.go', [target, context || {}]); },
      reload: function () { send('navigator.reload', []); },
      getLocation: function (callback) { return both(send('navigator.getLocation', [], true), callback); }
    },
    context: {
      getContext: function (callback) { return both(send('context.getContext', [], true), callback); },
      getToken: function (callback) { return both(send('context.getToken', [], true), callback); }
    },
    getLocation: function (callback) { return AP.navigator.getLocation(callback); },
    request: function (urlOrOptions, maybeOptions) {
      var o = typeof urlOrOptions === 'string' ? Object.assign({ url: urlOrOptions }, maybeOptions || {}) : Object.assign({}, urlOrOptions);
      var plain = { url: o.url, type: (o.type || 'GET').toUpperCase(), data: o.data, contentType: o.contentType, headers: o.headers };
      var p = send('request', [plain], true);
      p.then(function (r) { if (o.success) o.success(r.body, 'success', r.xhr); },
             function (err) { if (o.error) o.error(err.xhr || err, 'error', err.message); });
      return p;
    },
    flag: {
      create: function (options) {
        var id = 'flag-' + (next++);
        send('flag.create', [id, { title: options.title, body: options.body, type: options.type, close: options.close }]);
        return { _id: id, close: function () { send('flag.close', [id]); } };
      }
    },
    dialog: {
      create: function (options) {
        send('dialog.create', [options || {}]);
        return { on: function (name, f) { AP.events.on('dialog.' + name, f); } };
      },
      close: function (data) { send('dialog.close', [data === undefined ? null : data]); },
      getCustomData: function (callback) { return both(send('dialog.getCustomData', [], true), callback); }
    },
    cookie: {
      save: function (name, value, expiresDays) { send('cookie.save', [String(name), String(value), expiresDays || null]); },
      read: function (name, callback) { return both(send('cookie.read', [String(name)], true), callback); },
      erase: function (name) { send('cookie.erase', [String(name)]); }
    },
    events: {
      on: function (name, f) { (listeners[name] = listeners[name] || []).push(f); },
      off: function (name, f) { listeners[name] = (listeners[name] || []).filter(function (g) { return g !== f; }); }
    }
  };
  // The older module form some apps use: AP.require('request', function (request) { … }).
  AP.require = function (names, f) {
    var list = [].concat(names).map(function (n) { return n === 'env' ? AP : AP[n]; });
    if (typeof f === 'function') f.apply(null, list);
  };
  window.AP = AP;

  // Connect frames follow their content's height unless the app sizes them itself.
  function fit() { if (autoresize) send('resize', [null, height() + 'px']); }
  window.addEventListener('load', function () {
    fit();
    if (window.ResizeObserver && document.body) new ResizeObserver(fit).observe(document.body);
  });
})();
