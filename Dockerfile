# Production image: slim Python, non-root user, gunicorn, health check on /health.
# It runs behind a buffering proxy (deploy/nginx.conf, or an ingress): see docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLASK_APP=manage:application \
    FLASK_CONFIG=production \
    GUNICORN_BIND=0.0.0.0:8000

WORKDIR /srv
# A fixed numeric id, so that Kubernetes' runAsNonRoot can check it (deploy/k8s/deployment.yaml).
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --no-create-home app

# Dependencies first, so that code changes do not reinstall them.
COPY requirements/ requirements/
RUN pip install -r requirements/prod.txt

COPY --chown=10001:10001 . .
USER 10001:10001

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]
CMD ["gunicorn", "manage:application"]
