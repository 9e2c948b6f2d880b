#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 (Debian's python3-aiosmtpd) for the email tests.

Prints "LISTENING <port>", then one line "RECEIVED <json>" per accepted message, parsed by
Python's own email package (an independent MIME parser): decoded From/To/Subject, the raw
Subject header, Message-ID, Date, List-Unsubscribe(-Post), and each leaf part's content type,
charset and decoded text; plus the envelope and whether the session was TLS/authenticated.

Options:
  --tls-dir DIR          create DIR/cert.pem + key.pem (self-signed for 127.0.0.1) and offer STARTTLS
  --require-starttls     refuse mail commands before STARTTLS
  --auth USER:PASSWORD   require AUTH (PLAIN/LOGIN, only over TLS when --tls-dir is set)
  --reject-domain D      answer 550 to RCPT TO addresses @D
  --tempfail-domain D    answer 451 to RCPT TO addresses @D
  --hang-after-data      receive the message, print it, then never answer the end of DATA
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import subprocess
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def make_cert(directory):
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


class Handler:
    def __init__(self, args):
        self.args = args

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        domain = address.rsplit("@", 1)[-1]
        if self.args.reject_domain and domain == self.args.reject_domain:
            return "550 5.1.1 no such user"
        if self.args.tempfail_domain and domain == self.args.tempfail_domain:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        raw = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.compat32)
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            parts.append({"content_type": part.get_content_type(),
                          "charset": part.get_content_charset(),
                          "content": part.get_content()})
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "subject_raw": raw["Subject"],
            "message_id": str(msg["Message-ID"]),
            "date": str(msg["Date"]),
            "list_unsubscribe": msg["List-Unsubscribe"] and str(msg["List-Unsubscribe"]),
            "list_unsubscribe_post": msg["List-Unsubscribe-Post"] and str(msg["List-Unsubscribe-Post"]),
            "mime_version": str(msg["MIME-Version"]),
            "content_type": msg.get_content_type(),
            "parts": parts,
            "defects": [type(d).__name__ for p in msg.walk() for d in p.defects],
        }
        print("RECEIVED " + json.dumps(record), flush=True)
        if self.args.hang_after_data:
            await asyncio.sleep(3600)
        return "250 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tls-dir")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--reject-domain")
    p.add_argument("--tempfail-domain")
    p.add_argument("--hang-after-data", action="store_true")
    args = p.parse_args()
    tls = make_cert(args.tls_dir) if args.tls_dir else None
    kwargs = {"data_size_limit": 10 * 1024 * 1024, "timeout": 10, "hostname": "test.smtp.local"}
    if tls:
        kwargs["tls_context"] = tls
        kwargs["require_starttls"] = args.require_starttls
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = tls is not None
    handler = Handler(args)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(handler, **kwargs), "127.0.0.1", 0)
        print("LISTENING %d" % server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
