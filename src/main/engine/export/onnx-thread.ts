/** Entry of an export thread: one {@link exportOnnx} on tfjs's CPU backend, answered with its bytes. */
import * as tf from '@tensorflow/tfjs';
import { workerData } from 'node:worker_threads';
import { answerOnce } from '../parallel/one-shot.js';
import { exportOnnx, type OnnxExportRequest } from './export-model.js';

await answerOnce(async () => {
  // The variables only carry data here: no "install tfjs-node" banner on the user's terminal.
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const out = await exportOnnx(workerData as OnnxExportRequest);
  // A buffer of its own (protobufjs may hand out a slice of Node's pool), moved, not copied.
  const bytes = new Uint8Array(out.bytes);
  return { value: { ...out, bytes }, transfer: [bytes.buffer] };
});
