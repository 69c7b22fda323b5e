# The allocator API: uvicorn with the app factory, as a non-root user.
#   docker build -t care-allocator .
#   docker run -p 127.0.0.1:8000:8000 -v allocator-data:/data care-allocator
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a source change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['postgres']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the package itself (its migrations ship inside it), without touching the dependencies.
COPY README.md ./
COPY models ./models
COPY allocator ./allocator
COPY api ./api
RUN pip install --no-deps . \
    && rm -rf /app/build

RUN useradd --create-home --uid 10001 allocator \
    && mkdir -p /data \
    && chown allocator:allocator /data
USER allocator
WORKDIR /home/allocator
ENV ALLOCATOR_DATA_DIR=/data
VOLUME ["/data"]

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import sys, urllib.request; \
sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"

CMD ["uvicorn", "--factory", "api.app:create_app", "--host", "0.0.0.0", "--port", "8000"]
