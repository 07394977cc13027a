// Reads a member card's QR code with the device camera (jsQR on video frames); a typed code works as well.
import { t } from "./i18n.js";
import { h } from "./ui.js";

export function scanner({ onCode, onClose }) {
  const video = h("video", { class: "scan", muted: true, playsinline: true, "aria-label": t("scan.video") });
  const status = h("p", { role: "status", class: "muted" }, t("scan.starting"));
  const canvas = document.createElement("canvas");
  let stream = null;
  let stopped = false;

  function stop() {
    stopped = true;
    for (const track of stream?.getTracks() || []) track.stop();
    window.removeEventListener("hashchange", stop);
  }
  window.addEventListener("hashchange", stop); // leaving the page turns the camera off

  let jsQR = null;

  function frame() {
    if (stopped) return;
    if (video.readyState >= 2 && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (found && found.data) {
        stop();
        onCode(found.data);
        return;
      }
    }
    requestAnimationFrame(frame);
  }

  (async () => {
    try {
      jsQR = (await import("jsqr")).default;
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      if (stopped) return stop();
      video.srcObject = stream;
      await video.play();
      status.textContent = t("scan.hold");
      frame();
    } catch (error) {
      status.textContent = t("scan.failed", { reason: error.message || String(error) });
    }
  })();

  return h("div", { class: "card", "data-scanner": "" }, video, status,
    h("button", { type: "button", class: "secondary", onclick: () => { stop(); onClose(); } }, t("scan.close")));
}
