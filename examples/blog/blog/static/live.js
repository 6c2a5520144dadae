// Live comments: the post page opens a WebSocket to the URL the server put
// in data-live-url (only where the server offers one) and appends each
// comment it is sent. Reconnects with a growing delay if the socket drops.
(function () {
  "use strict";
  var list = document.getElementById("comments");
  if (!list || !list.dataset.liveUrl || !("WebSocket" in window)) return;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + list.dataset.liveUrl;
  var delay = 1000;

  function add(event) {
    if (event.type !== "comment" || document.getElementById("comment-" + event.id)) return;
    var item = document.createElement("li");
    item.className = "comment";
    item.id = "comment-" + event.id;
    var who = document.createElement("span");
    who.className = "author";
    who.textContent = event.author;  // text, never HTML: comments are user input
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = event.body;
    item.append(who, ": ", text);
    list.appendChild(item);
  }

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { delay = 1000; list.dataset.live = "open"; };
    socket.onmessage = function (message) {
      try { add(JSON.parse(message.data)); } catch (e) { /* not ours */ }
    };
    socket.onclose = function () {
      list.dataset.live = "closed";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
