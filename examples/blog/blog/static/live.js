// Live pages.
// - The index (#posts) follows the feed of new posts at data-feed-url
//   (Server-Sent Events) and inserts each at the top. The browser's
//   EventSource reconnects by itself when the stream ends or drops, after
//   the delay the server sent (retry), and sends the id of the last post it
//   received (Last-Event-ID); the server then sends each post after that
//   one, once and in order, so the page inserts whatever comes as it comes.
// - A post page (#comments) opens the WebSocket at data-live-url (only where
//   the server offers WebSockets), reconnects with a growing delay when it
//   drops, appends each new comment, and its comment form sends over the
//   socket while it is open (a plain form POST otherwise).
// Each live element's data-live says "open", "connecting" or "closed"
// (tests wait on it). Everything from the server is inserted as text, never
// as HTML: titles, bodies and names are user input.
(function () {
  "use strict";

  // Opens the socket at el.dataset.liveUrl, passes each JSON message to
  // onEvent; el.dataset.live says "open" or "closed" (tests wait on it).
  function live(el, onEvent) {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + el.dataset.liveUrl;
    var delay = 1000;
    var current = null;
    var listeners = [];

    function connect() {
      var socket = new WebSocket(url);
      socket.onopen = function () {
        delay = 1000;
        current = socket;
        el.dataset.live = "open";
      };
      socket.onmessage = function (message) {
        var event;
        try { event = JSON.parse(message.data); } catch (e) { return; }
        onEvent(event);
      };
      socket.onclose = function () {
        current = null;
        el.dataset.live = "closed";
        listeners.forEach(function (f) { f(); });
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    connect();
    return {
      // The open socket, or null while (re)connecting.
      socket: function () { return current; },
      onClose: function (f) { listeners.push(f); }
    };
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Jinja's truncate(280) as the index template applies it.
  function truncate(text, length) {
    if (text.length <= length + 5) return text;
    var cut = text.slice(0, length - 3);
    var space = cut.lastIndexOf(" ");
    return (space === -1 ? cut : cut.slice(0, space)) + "...";
  }

  function byline(author, authorUrl, created) {
    var p = el("p", "byline", "by ");
    var who = el("a", "author", author);
    who.href = authorUrl;
    p.append(who, " on ", el("time", "", created.slice(0, 16)));
    return p;
  }

  var postList = document.getElementById("posts");
  if (postList && postList.dataset.feedUrl && "EventSource" in window) {
    var feed = new EventSource(postList.dataset.feedUrl);
    postList.dataset.live = "connecting";
    feed.onopen = function () { postList.dataset.live = "open"; };
    feed.onerror = function () {
      // CONNECTING: the browser retries by itself; CLOSED: the server
      // refused the stream (not a 200), and it does not.
      postList.dataset.live = feed.readyState === EventSource.CLOSED ? "closed" : "connecting";
    };
    feed.addEventListener("post", function (message) {
      var event = JSON.parse(message.data);
      var article = el("article", "post");
      article.id = "post-" + event.id;
      var heading = el("h2");
      var link = el("a", "", event.title);
      link.href = event.url;
      heading.append(link);
      article.append(heading, byline(event.author, event.author_url, event.created),
                     el("p", "excerpt", truncate(event.body, 280)));
      var me = document.getElementById("current-user");
      if (me && me.textContent === event.author) {
        var edit = el("a", "action", "Edit");
        edit.href = event.edit_url;
        article.append(edit);
      }
      var empty = postList.querySelector(".empty");
      if (empty) empty.remove();
      postList.prepend(article);
    });
  }

  var comments = document.getElementById("comments");
  if (comments && comments.dataset.liveUrl && "WebSocket" in window) {
    var form = document.getElementById("comment-form");
    var error = document.getElementById("comment-error");
    var pending = null;  // the ref of the comment awaiting its answer

    function settle(message) {
      pending = null;
      if (!form) return;
      form.querySelector("button[type=submit]").disabled = false;
      if (error) {
        error.textContent = message || "";
        error.hidden = !message;
      }
    }

    var channel = live(comments, function (event) {
      if (event.type === "comment") {
        if (document.getElementById("comment-" + event.id)) return;
        var item = el("li", "comment");
        item.id = "comment-" + event.id;
        item.append(el("span", "author", event.author), ": ");
        item.append(el("span", "text", event.body));  // textContent: user input
        comments.appendChild(item);
      } else if (pending !== null && event.ref === pending) {
        if (event.type === "saved") form.elements.body.value = "";
        settle(event.type === "error" ? event.message : "");
      }
    });
    // A comment in flight when the socket drops may or may not be saved;
    // the reader sees which on the page, and the next try goes by POST.
    channel.onClose(function () {
      if (pending !== null) settle("The connection dropped; check the comments and try again.");
    });

    if (form) {
      form.addEventListener("submit", function (submit) {
        if (pending !== null) { submit.preventDefault(); return; }  // one at a time
        var socket = channel.socket();
        if (!socket) return;  // the form POST, as without JavaScript
        submit.preventDefault();
        pending = String(Date.now());
        form.querySelector("button[type=submit]").disabled = true;
        socket.send(JSON.stringify({type: "comment", body: form.elements.body.value, ref: pending}));
      });
    }
  }
})();
