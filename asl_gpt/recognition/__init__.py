"""The recognition runtime: landmark windows in, committed utterances out. Never imports torch.

Modules, in the order a frame's landmarks pass through them:
  features.py     the signing hand's features and the signing-space tests (shared with training)
  tokenizer.py    the 59-symbol vocabulary with named special ids
  contract.py     the JSON beside each .tflite: columns, window, vocabulary, what confidence means
  recognizer.py   LiteRT runner + per-frame letter evidence -> `Hypothesis`
  decoding.py     greedy, word-aware and lexicon-beam decoding over logits
  calibration.py  a user's profile: adjusts the per-frame letter evidence
  streaming.py    segments of a live stream, decoded on a worker thread
  buffer.py       the confidence-gated utterance buffer (a pure state machine)
  pipeline.py     wires them: `RecognitionSession`, `recognize_video`, `recognize_landmarks`
  overlay.py      landmarks and text drawn over a frame
"""
