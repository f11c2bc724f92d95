"""The Attention page: SE maps, Grad-CAM and class comparison for one image or a folder, with its workers and jobs."""
