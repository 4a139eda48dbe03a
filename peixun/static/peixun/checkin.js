// 扫码签到 on the trainee's phone: selfie from the camera (getUserMedia → canvas → JPEG) and the
// position (navigator.geolocation), posted with the QR token to checkin:submit. Without a camera API
// (an old browser, or a page not served over HTTPS) the file input opens the phone's camera instead.
(function () {
  "use strict";

  function start(form) {
    var video = document.getElementById("checkin-video");
    var canvas = document.getElementById("checkin-canvas");
    var fileBox = document.getElementById("checkin-file");
    var fileInput = document.getElementById("checkin-photo");
    var cameraStatus = document.getElementById("checkin-camera-status");
    var geoStatus = document.getElementById("checkin-geo-status");
    var button = document.getElementById("checkin-button");
    var result = document.getElementById("checkin-result");
    var stream = null;

    function useFileInput(reason) {
      stream = null;
      video.hidden = true;
      fileBox.hidden = false;
      fileInput.required = true;
      cameraStatus.textContent = reason;
    }

    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      fileBox.hidden = true;
      fileInput.required = false;
      cameraStatus.textContent = "正在打开前置摄像头……";
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          video.hidden = false;
          return video.play();
        })
        .then(function () {
          cameraStatus.textContent = "请正对摄像头，点击“拍照签到”。";
          form.dataset.cameraReady = "1";
        })
        .catch(function (err) {
          useFileInput("无法打开摄像头（" + (err && err.name ? err.name : "未知原因") + "），请用上方按钮拍照。");
        });
    } else {
      useFileInput("此浏览器不能直接打开摄像头，请用上方按钮拍照。");
    }

    // The position is asked for at once; a check-in without one is still accepted (not judged).
    var position = new Promise(function (resolve) {
      if (!navigator.geolocation) {
        geoStatus.textContent = "此浏览器不能提供位置，签到将不带位置信息。";
        resolve(null);
        return;
      }
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          geoStatus.textContent = "已获取位置（精度约" + Math.round(pos.coords.accuracy) + "米）。";
          form.dataset.geoReady = "1";
          resolve({ lat: pos.coords.latitude, lon: pos.coords.longitude });
        },
        function () {
          geoStatus.textContent = "未获取到位置，签到将不带位置信息。";
          resolve(null);
        },
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
      );
    });

    function withTimeout(promise, ms) {
      return Promise.race([
        promise,
        new Promise(function (resolve) { setTimeout(function () { resolve(null); }, ms); }),
      ]);
    }

    function selfie() {
      if (!stream) {
        var file = fileInput.files && fileInput.files[0];
        return Promise.resolve(file || null);
      }
      var width = video.videoWidth || 640;
      var height = video.videoHeight || 480;
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").drawImage(video, 0, 0, width, height);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.85); });
    }

    function stopCamera() {
      if (stream) {
        stream.getTracks().forEach(function (track) { track.stop(); });
      }
      video.hidden = true;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      result.textContent = "";
      var photo = null;
      selfie()
        .then(function (blob) {
          if (!blob) { throw new Error("请先拍照"); }
          photo = blob;
          if (stream) {
            canvas.hidden = false;
            video.hidden = true;
          }
          cameraStatus.textContent = "正在提交签到……";
          return withTimeout(position, 10000);
        })
        .then(function (pos) {
          var data = new FormData(form);
          data.set("photo", photo, "selfie.jpg");
          data.set("lat", pos ? String(pos.lat) : "");
          data.set("lon", pos ? String(pos.lon) : "");
          return fetch(form.action, {
            method: "POST",
            body: data,
            credentials: "same-origin",
            headers: { "X-Checkin-Fetch": "1", "X-CSRFToken": data.get("csrfmiddlewaretoken") },
          });
        })
        .then(function (response) {
          if (response.redirected) {
            window.location.href = response.url;  // the login page: the session has ended
            return null;
          }
          return response.text().then(function (html) {
            result.innerHTML = html;
            if (response.ok) {
              stopCamera();  // the photo taken stays on the canvas
              button.hidden = true;
              fileBox.hidden = true;
              cameraStatus.textContent = "";
            } else {
              canvas.hidden = true;
              if (stream) { video.hidden = false; }
              cameraStatus.textContent = "";
              button.disabled = false;
            }
          });
        })
        .catch(function (err) {
          canvas.hidden = true;
          if (stream) { video.hidden = false; }
          cameraStatus.textContent = err && err.message === "请先拍照" ? "请先拍照。" : "网络异常，签到未提交，请重试。";
          button.disabled = false;
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-checkin]");
    if (form) { start(form); }
  });
})();
