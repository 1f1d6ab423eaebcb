"""What every protocol shares: the transport under IMAP, POP3 and SMTP.

    tls.py         which certificates an account trusts (ca_file, tls_fingerprint pinning)
    linereader.py  LineReader: lines and exact-size blocks from an asyncio transport
"""
