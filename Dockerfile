# SGAN Studio in a container, following Streamlit's own deployment pattern
# (docs.streamlit.io, "Deploy Streamlit using Docker"): slim Python base, curl for the
# health check, requirements first (cached layer), then the code, port 8501, a
# HEALTHCHECK on /_stcore/health, and `streamlit run` as the entry point.
#
# NOT BUILT HERE: the development and CI machines have only the docker client, no engine,
# so this file has not been through `docker build`. Build and run elsewhere with:
#   docker build -t sgan-studio .
#   docker run -p 8501:8501 -v sgan-data:/data sgan-studio      # then open localhost:8501
# Without /data holding MNIST in torchvision's layout (or a network to download it), the
# page trains on the bundled MNIST subset in assets/, offline.
FROM python:3.11-slim

WORKDIR /app

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*

# CPU-only torch first: plain `pip install torch==2.14.1` from PyPI would pull the CUDA
# build (several GB) that a laptop-CPU demo never uses. requirements.txt then finds
# torch and torchvision already satisfied (2.14.1+cpu satisfies ==2.14.1).
COPY requirements.txt .
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu \
        torch==2.14.1 torchvision==0.29.1 \
    && pip install --no-cache-dir -r requirements.txt

COPY . .

# Datasets and downloads live outside the image; the dashboard reads SGAN_DATA_DIR.
ENV SGAN_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]

EXPOSE 8501

HEALTHCHECK CMD curl --fail http://localhost:8501/_stcore/health

ENTRYPOINT ["streamlit", "run", "dashboard/app.py", "--server.port=8501", "--server.address=0.0.0.0"]
