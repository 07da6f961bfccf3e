"""A lab's own int8 `.tflite` model in hil: read the flatbuffer (reader.py), turn its operators into
hil layers keeping the file's own quantization (convert.py, tflm_params.py), and build the artifact
and golden bundle from it (importer.py). Torch-free; the schema comes from the tflite-micro wheel."""
