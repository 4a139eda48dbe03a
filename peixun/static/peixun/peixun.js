// peixun page behaviour. No inline scripts anywhere (Content-Security-Policy: script-src 'self').
document.addEventListener("htmx:responseError", function (event) {
  var box = document.createElement("div");
  box.className = "alert alert-danger py-2";
  box.textContent = "操作未成功（" + event.detail.xhr.status + "），请刷新页面后重试。";
  var main = document.querySelector(".px-content");
  if (main) { main.prepend(box); }
});
