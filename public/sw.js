// Qline's service worker: shows the tracker's alerts ("you are next", "your turn",
// "missed") that arrive by web push, even with the tracker closed, and opens the tracker
// when one is tapped.
self.addEventListener("push", (event) => {
  let alert = {};
  try {
    alert = event.data ? event.data.json() : {};
  } catch (_) {
    alert = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(alert.title || "Qline", {
      body: alert.body || "",
      tag: alert.tag,
      renotify: Boolean(alert.tag),
      requireInteraction: true,
      vibrate: [300, 100, 300],
      data: { url: alert.url || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((open) => {
      const tracker = open.find((c) => c.url === url && "focus" in c);
      return tracker ? tracker.focus() : self.clients.openWindow(url);
    }),
  );
});
