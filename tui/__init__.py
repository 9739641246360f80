"""The newsqa terminal chat (Textual); all answering goes through the `qa` public API."""
