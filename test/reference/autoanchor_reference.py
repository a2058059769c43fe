"""Reference figures for test/unit/train/autoanchor.test.ts, computed the way YOLOv5 v7.0's
utils/autoanchor.py computes them (numpy and scipy.cluster.vq, not FreezeLab's code).

Usage: python3 test/reference/autoanchor_reference.py ../shared/data/coco128
Needs numpy and scipy; the tests do not run it, they hold its output.
"""
import glob
import json
import os
import struct
import sys

import numpy as np
from scipy.cluster.vq import kmeans


def jpeg_size(path):
    with open(path, 'rb') as f:
        data = f.read()
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack('>HH', data[i + 5:i + 9])
            return w, h
        length = struct.unpack('>H', data[i + 2:i + 4])[0]
        i += 2 + length
    raise ValueError(path)


root = sys.argv[1]
shapes, labels = [], []
for p in sorted(glob.glob(os.path.join(root, 'images', 'train2017', '*.jpg'))):
    shapes.append(jpeg_size(p))
    lp = p.replace(os.sep + 'images' + os.sep, os.sep + 'labels' + os.sep).rsplit('.', 1)[0] + '.txt'
    rows = np.loadtxt(lp, ndmin=2) if os.path.exists(lp) and os.path.getsize(lp) else np.zeros((0, 5))
    _, keep = np.unique(rows, axis=0, return_index=True)
    labels.append(rows[keep] if len(keep) < len(rows) else rows)  # YOLOv5 drops duplicate rows so
shapes = np.array(shapes, dtype=np.float64)
anchors = np.array([10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326], float).reshape(-1, 2)
thr = 1 / 4.0
out = {}
for imgsz in (320, 640):
    s = imgsz * shapes / shapes.max(1, keepdims=True)
    wh0 = np.concatenate([l[:, 3:5] * ss for ss, l in zip(s, labels)])
    r = wh0[:, None] / anchors[None]
    x = np.minimum(r, 1 / r).min(2)
    best = x.max(1)
    wh = wh0[(wh0 >= 2.0).any(1)].astype(np.float32).astype(np.float64)
    rf = wh[:, None] / anchors[None]
    bf = np.minimum(rf, 1 / rf).min(2).max(1)
    sigma = wh.std(0)
    white = wh / sigma
    book, dist = kmeans(white, white[:9].copy(), thresh=1e-5)
    out[str(imgsz)] = {
        'labels': int(len(wh0)),
        'anchorsPerTarget': float((x > thr).sum(1).mean()),
        'bpr': float((best > thr).mean()),
        'tinyLabels': int((wh0 < 3.0).any(1).sum()),
        'points': int(len(wh)),
        'fitness': float((bf * (bf > thr)).mean()),
        'kmeansFromFirst9': {'centroids': (book * sigma).tolist(), 'distortion': float(dist)},
    }
print(json.dumps(out, indent=1))
