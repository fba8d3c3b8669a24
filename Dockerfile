# syntax=docker/dockerfile:1
# Build stage: a wheel of the project and its dependencies.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/locker
COPY pyproject.toml README.md ./
COPY crypto crypto
COPY locker locker
COPY sharing sharing
COPY web web
COPY migrations migrations
RUN /opt/locker/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/locker/bin/pip install --no-cache-dir ".[production]"

# Run stage: no compiler, non-root, migrations applied at start, then `locker serve`
# (waitress: whole requests are buffered before a thread sees them; web/serve.py).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmagic1 libheif1 libturbojpeg0 libseccomp2 \
    fonts-dejavu-core postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/locker --create-home locker \
 && install -d -o locker -g locker -m 0700 /var/lib/locker/keys \
 && install -d -o locker -g locker -m 0700 /var/lib/locker-witness
COPY --from=build /opt/locker /opt/locker
# deploy/compose.yaml runs gunicorn with these settings (behind nginx, which buffers).
COPY deploy/gunicorn.conf.py /opt/locker/gunicorn.conf.py
ENV PATH=/opt/locker/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LOCKER_DATA_DIR=/var/lib/locker
USER locker
WORKDIR /var/lib/locker
EXPOSE 8000
# `locker init` is idempotent: it creates what is missing and migrates the schema, waiting
# for the database and the object store to answer.
CMD ["sh", "-c", "locker init --wait 120 && exec locker serve --host 0.0.0.0 --port 8000 --workers 2"]
