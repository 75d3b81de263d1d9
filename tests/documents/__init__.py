"""Tests of the documents app: amounts, numbering, rendering, issuing, start-up checks."""
