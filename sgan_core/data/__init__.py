"""The data room: which datasets exist and their facts (torch-free), loading them from a
folder in torchvision's layout or the bundled subset, the split by seed into labeled,
unlabeled, validation and test images, and in-memory batching. Nothing here knows
about training, runs, files of runs or the page.
"""
