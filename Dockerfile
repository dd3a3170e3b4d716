# One image for every process of the platform; the compose file picks the `saga` sub-command.
FROM python:3.11-slim AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml constraints.txt Makefile ./
COPY infra ./infra
COPY saga ./saga
COPY clients ./clients
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY apis ./apis
COPY protos ./protos
COPY temporal ./temporal
# The player web app's files, installed next to the packages; the gateway serves them at /.
COPY web ./web
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt . \
 && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt grpcio-tools mypy-protobuf \
 && find protos -name '*.proto' -exec /opt/venv/bin/python -m grpc_tools.protoc -I . \
      --python_out=/opt/venv/lib/python3.11/site-packages \
      --grpc_python_out=/opt/venv/lib/python3.11/site-packages {} +

FROM python:3.11-slim
RUN useradd --system --create-home saga
COPY --from=build /opt/venv /opt/venv
COPY temporal /app/temporal
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SAGA_ENV=production \
    BIND_HOST=0.0.0.0 \
    SAGA_TEMPORAL_CONFIG_DIR=/app/temporal
WORKDIR /app
USER saga
ENTRYPOINT ["saga"]
CMD ["--help"]
