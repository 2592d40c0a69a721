"""The feature map: projection maths (PCA, alignment, neighbours; pure numpy), the UMAP
child process and the server's embedding service that feeds it. It reads a
snapshot's features; it knows nothing of training.
"""
