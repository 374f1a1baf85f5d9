"""Redaction: identities, pseudonyms, masking, review and the unmask policy (issue 4).

Pure logic: it is handed keys and text and stores nothing; it imports no other project package.
"""
