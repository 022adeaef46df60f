// ASL GPT camera: getUserMedia -> JPEG frames on a WebSocket -> landmarks and buffer state drawn back.
// At most MAX_IN_FLIGHT frames are unanswered at a time: the next frame's encode and transfer
// overlap recognition of this one, and the browser never sends faster than recognition answers.
// The page shows the camera's own video (a mirrored <video> under the canvas: the browser draws it at the
// camera's rate, no script per frame), and the canvas over it holds the latest landmarks and text, redrawn
// per answer: the preview stays smooth whatever recognition's rate. While the server rests (no hand raised for a while:
// asl_gpt.app.live) the page sends REST_FPS frames a second; the server keeps them and reads them on a rise.
// ASL_GPT_DRAW (skeleton edges and colours, the same as `asl-gpt live` draws, MAX_SIDE, MAX_IN_FLIGHT and the JPEG
// QUALITY) is defined before this script by asl_gpt/app/camera.py, from asl_gpt/recognition/overlay.py and its own constants.
(() => {
  const {MAX_SIDE, MAX_IN_FLIGHT, QUALITY, REST_FPS} = ASL_GPT_DRAW;
  const {HAND, POSE} = ASL_GPT_DRAW;
  const rgb = (c) => `rgb(${c.join(',')})`;
  const GREEN = rgb(ASL_GPT_DRAW.GREEN), ORANGE = rgb(ASL_GPT_DRAW.ORANGE), GREY = rgb(ASL_GPT_DRAW.GREY),
    RED = rgb(ASL_GPT_DRAW.RED);
  let st = null;  // the running camera, or null

  const $ = (id) => document.getElementById(id);
  const say = (t) => { const m = $('cam-msg'); if (m) m.textContent = t; };
  const buttons = (on) => {
    const a = $('cam-start'), b = $('cam-stop');
    if (a) a.disabled = on;
    if (b) b.disabled = !on;
  };
  const key = () => {
    const t = document.querySelector('#live-key textarea, #live-key input');
    return t ? t.value : '';
  };
  const socketUrl = (k) => {
    const u = new URL('live/ws', window.location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = '?key=' + encodeURIComponent(k);
    return u.toString();
  };

  function report(k, why) {  // the status tab shows why the camera is off
    try {
      const ws = new WebSocket(socketUrl(k));
      ws.onopen = () => { ws.send(JSON.stringify({camera_error: why})); ws.close(); };
    } catch (e) { /* nothing more to do */ }
  }

  async function start() {
    if (st) return;
    let k = key();
    for (let i = 0; i < 100 && !k; i++) {  // pressed while the page was still loading
      say('Waiting for the app…');
      await new Promise((r) => setTimeout(r, 100));
      k = key();
    }
    if (!k) { say('The app did not answer: reload the page.'); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      const why = 'this page cannot use a camera (open it as http://localhost or over https)';
      say('Camera: ' + why + '. You can upload a video instead.');
      report(k, why);
      return;
    }
    say('Asking for the camera…');
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({audio: false, video: {width: {ideal: 640}, height: {ideal: 480}}});
    } catch (e) {
      const name = (e && e.name) || String(e);
      const why = name === 'NotAllowedError' ? 'permission denied'
        : name === 'NotFoundError' ? 'no camera found'
        : name === 'NotReadableError' ? 'the camera is in use by another program' : 'cannot open the camera (' + name + ')';
      say('Camera: ' + why + '. Allow the camera in the address bar and press Start camera again, or upload a video.');
      report(k, why);
      return;
    }
    const video = document.createElement('video');  // the preview: under the canvas, mirrored (style.css)
    video.muted = true; video.playsInline = true; video.srcObject = stream;
    video.setAttribute('aria-hidden', 'true');  // the canvas over it carries the description
    const view = document.querySelector('#cam .cam-view') || $('cam');
    if (view) view.insertBefore(video, $('cam-canvas'));
    try { await video.play(); } catch (e) { /* autoplay of a muted stream is allowed */ }
    const ws = new WebSocket(socketUrl(k));
    ws.binaryType = 'arraybuffer';
    st = {stream, video, ws, pending: [], pool: [], shown: 0, read: 0, lastSay: 0, last: null, timer: 0, video_frames: 0};
    count(st);
    buttons(true);
    say('Camera on: connecting…');
    ws.onopen = () => { for (let i = 0; i < MAX_IN_FLIGHT; i++) sendFrame(); };
    ws.onmessage = (e) => onReply(JSON.parse(e.data));
    ws.onclose = (e) => { if (st && st.ws === ws) stop(e.reason ? 'Camera off: ' + e.reason + '.' : 'Camera off: the connection to the app closed.'); };
    stream.getVideoTracks().forEach((t) => { t.onended = () => stop('Camera off: the camera stopped.'); });
  }

  function stop(message) {
    if (!st) return;
    const s = st; st = null;
    clearTimeout(s.timer);
    s.stream.getTracks().forEach((t) => t.stop());
    s.video.remove();
    try { s.ws.close(); } catch (e) { /* already closed */ }
    buttons(false);
    say(message || 'Camera off.');
    blank();
  }

  function blank() {  // the last frame and its caption would stay on the canvas as if still live
    const out = $('cam-canvas');
    if (!out) return;
    const g = out.getContext('2d'), W = out.width, H = out.height;
    out.classList.remove('live');
    g.fillStyle = '#111'; g.fillRect(0, 0, W, H);
    g.fillStyle = '#fff'; g.font = `600 ${Math.round(Math.max(18, W / 22))}px sans-serif`;
    g.textAlign = 'center'; g.fillText('Camera off', W / 2, H / 2); g.textAlign = 'start';
    out.dataset.off = '1';
  }

  function sendFrame() {
    if (!st || st.ws.readyState !== WebSocket.OPEN || st.pending.length >= MAX_IN_FLIGHT) return;
    const v = st.video;
    if (!v.videoWidth) { setTimeout(sendFrame, 30); return; }  // no picture yet
    const scale = Math.min(1, MAX_SIDE / Math.max(v.videoWidth, v.videoHeight));
    const c = st.pool.pop() || document.createElement('canvas');
    const w = Math.round(v.videoWidth * scale), h = Math.round(v.videoHeight * scale);
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }  // resizing reallocates and clears
    c.getContext('2d').drawImage(v, 0, 0, c.width, c.height);
    st.pending.push(c);
    const s = st;
    c.toBlob((b) => {
      if (!b || st !== s) return;
      b.arrayBuffer().then((a) => { if (st === s && s.ws.readyState === WebSocket.OPEN) s.ws.send(a); });
    }, 'image/jpeg', QUALITY);
  }

  function onReply(r) {
    if (!st) return;
    const c = st.pending.shift();
    if (c) st.pool.push(c);
    if (!r.dropped && !r.error) {  // text and meter from every answer; landmarks from frames that were read
      const keep = r.left_hand !== undefined ? r : (st.last || {});
      st.last = Object.assign({}, r, {left_hand: keep.left_hand, right_hand: keep.right_hand, pose: keep.pose,
                                      pose_index: keep.pose_index});
      draw(st.last);
    }
    const now = performance.now();
    // Only the camera's own news here: whether hands are in view is the overlay's and the status
    // line's to say (both from the server's one debounced state), so the three never disagree.
    if (r.error) say('Camera on: ' + r.error);
    else if (now - st.lastSay > 1000) {
      st.lastSay = now;
      say(r.resting ? 'Camera on: resting until a hand is raised (recognition reads a few frames a second).'
        : 'Camera on: ' + r.fps.toFixed(1) + ' frames/s recognised.');
    }
    if (r.resting) {  // one frame every 1/REST_FPS s: enough to see a rise, little to encode
      if (!st.timer) st.timer = setTimeout(() => { if (st) { st.timer = 0; sendFrame(); } }, 1000 / REST_FPS);
      return;
    }
    while (st && st.pending.length < MAX_IN_FLIGHT) {
      const before = st.pending.length;
      sendFrame();
      if (st.pending.length === before) break;
    }
  }

  function count(s) {  // video frames the page showed (for tests and `asl-gpt bench app`)
    if (st !== s || !s.video.requestVideoFrameCallback) return;
    s.video.requestVideoFrameCallback(() => {
      s.video_frames += 1;
      const out = $('cam-canvas');
      if (out) out.dataset.video = String(s.video_frames);
      count(s);
    });
  }

  function line(g, p, a, b, w) {
    if (p[a] && p[b]) { g.beginPath(); g.moveTo(p[a][0] * w.x, p[a][1] * w.y); g.lineTo(p[b][0] * w.x, p[b][1] * w.y); g.stroke(); }
  }

  function draw(r) {  // over the video: what was last found, mirrored like the video, and the pending text
    const out = $('cam-canvas'), v = st && st.video;
    if (!out || !v || !v.videoWidth) return;
    const scale = Math.min(1, MAX_SIDE / Math.max(v.videoWidth, v.videoHeight));
    const W = Math.round(v.videoWidth * scale), H = Math.round(v.videoHeight * scale);
    if (out.width !== W || out.height !== H) { out.width = W; out.height = H; }
    const g = out.getContext('2d');
    const w = {x: W, y: H};
    out.classList.add('live');  // transparent: the video shows through
    g.clearRect(0, 0, W, H);
    g.save();
    g.translate(W, 0); g.scale(-1, 1);
    g.lineWidth = 2;
    if (r.pose) {
      const p = {};
      r.pose_index.forEach((i, j) => { p[i] = r.pose[j]; });
      g.strokeStyle = GREY;
      POSE.forEach(([a, b]) => line(g, p, a, b, w));
    }
    for (const [pts, colour] of [[r.left_hand, ORANGE], [r.right_hand, GREEN]]) {
      if (!pts) continue;
      g.strokeStyle = colour;
      HAND.forEach(([a, b]) => line(g, pts, a, b, w));
      g.fillStyle = '#fff';
      pts.forEach((q) => { if (q) { g.beginPath(); g.arc(q[0] * W, q[1] * H, 3, 0, 2 * Math.PI); g.fill(); } });
    }
    g.restore();
    // text is drawn unmirrored: the pending utterance, a confidence bar with the threshold mark
    const s = Math.max(0.5, W / 900), band = 70 * s;
    g.fillStyle = '#000'; g.fillRect(0, H - band, W, band);
    const low = r.low;  // decided by the server's buffer (the caption and the status use the same flag)
    g.font = `600 ${Math.round(34 * s)}px sans-serif`;
    g.fillStyle = low ? ORANGE : '#fff';
    g.fillText(r.text ? r.text.slice(-40) : (r.hands ? '…' : 'no hands in view'), 10 * s, H - 28 * s);
    const x0 = 10 * s, bw = W - 20 * s, y0 = H - 16 * s, bh = 10 * s;
    g.strokeStyle = GREY; g.lineWidth = 1; g.strokeRect(x0, y0, bw, bh);
    g.fillStyle = low ? RED : GREEN; g.fillRect(x0, y0, bw * Math.max(0, Math.min(1, r.confidence)), bh);
    g.strokeStyle = '#fff'; g.lineWidth = 2;
    const th = r.threshold === undefined ? 0.5 : r.threshold;
    g.beginPath(); g.moveTo(x0 + bw * th, y0 - 4); g.lineTo(x0 + bw * th, y0 + bh + 4); g.stroke();
    g.font = `${Math.round(22 * s)}px sans-serif`;
    (r.said || []).slice(-3).forEach((u, i) => {
      const t = u.slice(-48), y = (28 + 26 * i) * s, tw = g.measureText(t).width;
      g.fillStyle = '#000'; g.fillRect(6 * s, y - 20 * s, tw + 8 * s, 26 * s);
      g.fillStyle = '#fff'; g.fillText(t, 10 * s, y);
    });
    st.shown += 1;
    delete out.dataset.off;
    out.dataset.frames = String(st.shown);  // for tests and the benchmark: answers drawn over the video so far
  }

  document.addEventListener('click', (e) => {
    // [data-cam-start]: the same start offered where the camera is needed (the Calibrate panel)
    if (e.target.closest && e.target.closest('#cam-start, [data-cam-start]')) start();
    else if (e.target.closest && e.target.closest('#cam-stop')) stop();
  });
  window.aslGptCamera = {start, stop, running: () => st !== null};
})();
