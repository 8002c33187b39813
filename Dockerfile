# The image every step of the pipeline runs in on Kubeflow Pipelines / Vertex AI:
# the official TFX image of the pinned TFX version, with this project installed.
#   make image IMAGE=gcr.io/<project>/mtl-pipeline:1 && docker push gcr.io/<project>/mtl-pipeline:1
FROM gcr.io/tfx-oss-public/tfx:1.16.0

ENV TF_USE_LEGACY_KERAS=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# The project lives at /pipeline (pipeline/kubeflow/compiler.py IMAGE_PROJECT_ROOT):
# its setup.py is what Beam ships to remote workers (--setup_file).
WORKDIR /pipeline

# Dependencies first, from the lock, so code edits rebuild only the last layers.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml setup.py README.md ./
COPY pipeline ./pipeline
COPY components ./components
COPY models ./models
COPY config ./config
RUN pip install --no-deps . && python -c "import pipeline.definition, models.trainer, components.synthetic_example_gen.executor"
