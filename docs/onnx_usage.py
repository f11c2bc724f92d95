# Classify an image with a model exported by `python -m model export … --format onnx`.
# Needs only onnxruntime, numpy and Pillow.  Usage: python onnx_usage.py model.onnx photo.jpg
import json, sys
import numpy as np, onnxruntime as ort
from PIL import Image

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
meta = session.get_modelmeta().custom_metadata_map
size, resize = int(meta["input_size"]), int(meta["resize_size"])
mean, std = np.array(json.loads(meta["mean"])), np.array(json.loads(meta["std"]))
resample = Image.BICUBIC if meta["interpolation"] == "bicubic" else Image.BILINEAR

img = Image.open(sys.argv[2]).convert("RGB")
w, h = img.size
scale = resize / min(w, h)  # resize the short side, then centre-crop
img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), resample)
left, top = (img.width - size) // 2, (img.height - size) // 2
img = img.crop((left, top, left + size, top + size))
x = ((np.asarray(img, np.float32) / 255 - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)

logits = session.run(None, {"image": x})[0][0]
probs = np.exp(logits - logits.max()); probs /= probs.sum()
best = int(probs.argmax())
print(json.loads(meta["class_names"])[best], f"{probs[best]:.4f}")
