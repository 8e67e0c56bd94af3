// The rungs of the ablation ladder, shared by its server (bench/servers/ablation-ladder-server.ts)
// and its runner (bench/ablation-ladder.ts).

/** What each rung adds over the one before; the index is the rung. */
export const LADDER_STEPS = [
  'Express ceiling (same code as the ceiling server)',
  '+ our body reader (readRequestBody), etag off, no query parser',
  '+ hostile-shape check of request',
  '+ AdmissionReview validation (readAdmissionReview)',
  '+ admitPod: namespace lookup, policy snapshot, engine, patch JSON + base64',
  '+ real answer JSON instead of the fixed reply',
  '+ metrics (histogram observe, injected counts)',
  '+ decision log line (JSON-line logger to stdout)',
  '+ webhook-server.ts (drain bookkeeping, timeouts, minVersion)',
  '+ the real Express app (createWebhookApp via startWebhook)',
  '+ serve.ts (collectDefaultMetrics, standalone sources)',
  '+ @kubernetes/client-node loaded (what main.ts loads for serve today)',
] as const;
