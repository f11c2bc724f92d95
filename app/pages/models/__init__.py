"""The Models page: B0-B7 side by side, weights download and import, measuring, switching the active classifier."""
