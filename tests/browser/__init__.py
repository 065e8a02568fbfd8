"""Tests that drive our HTML pages in a real headless browser (Debian's chromium through Playwright)."""
