"""Landmark layout, video frames and the MediaPipe Holistic adapter."""
