# syntax=docker/dockerfile:1
# Build wheels with the compilers in a throw-away stage; the runtime image has none.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY events ./events
COPY dispatch ./dispatch
COPY workers ./workers
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DISPATCH_DATABASE_URL=sqlite:////data/dispatch.db \
    DISPATCH_EMBEDDED_REDIS_DIR=/data/redis \
    DISPATCH_SECRET_KEY_FILE=/data/.dispatch-secret
RUN useradd --create-home --uid 10001 whistle && mkdir /data && chown whistle /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels street-whistle && rm -rf /wheels
USER whistle
WORKDIR /home/whistle
VOLUME ["/data"]
EXPOSE 8000
# The default, said out loud: every command here finishes its work in hand on SIGTERM.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["dispatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
