"""Wire protocol between host and device: spec (data), codec, generators."""
