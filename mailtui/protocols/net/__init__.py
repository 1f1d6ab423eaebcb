"""What every protocol shares: the transport under IMAP, POP3 and SMTP.

    connect.py      open TCP or TLS, STARTTLS, trust and pinning, one error mapping
    tls.py          which certificates an account trusts (ca_file, tls_fingerprint pinning)
    linereader.py   LineReader: lines and exact-size blocks from an asyncio transport
    sasl.py         PLAIN, LOGIN, XOAUTH2, OAUTHBEARER client responses
    credentials.py  the password or OAuth access token of an account or its SMTP server
"""
