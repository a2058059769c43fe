/** Entry of an export thread: one {@link exportOnnx} on tfjs's CPU backend, answered with its bytes. */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { FreezeLabError } from '../../../shared/result.js';
import { exportOnnx, type OnnxExportRequest, type ThreadAnswer } from './export-model.js';

const port = parentPort;
if (!port) throw new Error('onnx-thread must run in a worker thread');
try {
  await tf.setBackend('cpu');
  const out = await exportOnnx(workerData as OnnxExportRequest);
  // A buffer of its own (protobufjs may hand out a slice of Node's pool), moved, not copied.
  const bytes = new Uint8Array(out.bytes);
  const answer: ThreadAnswer = { ok: true, value: { ...out, bytes } };
  port.postMessage(answer, [bytes.buffer]);
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  const answer: ThreadAnswer = {
    ok: false,
    error: {
      name: e.name,
      message: e.message,
      ...(e instanceof FreezeLabError ? { code: e.code, ...(e.hint ? { hint: e.hint } : {}) } : {}),
    },
  };
  port.postMessage(answer);
}
