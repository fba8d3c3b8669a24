"""Google's `tink` package as the reference implementation, holding keys we chose.

Tink never exposes a fixed salt, nonce prefix or nonce; it is given our raw key bytes in a
cleartext keyset (RAW output prefix, so its ciphertexts carry no key-id prefix).
"""

from __future__ import annotations

import io

import tink
from tink import aead, cleartext_keyset_handle, streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2, aes_gcm_pb2, common_pb2, tink_pb2

aead.register()
streaming_aead.register()

_STREAMING_TYPE_URL = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"
_AES_GCM_TYPE_URL = "type.googleapis.com/google.crypto.tink.AesGcmKey"


def _handle(type_url: str, key_proto: bytes) -> tink.KeysetHandle:
    keyset = tink_pb2.Keyset(
        primary_key_id=1,
        key=[
            tink_pb2.Keyset.Key(
                key_data=tink_pb2.KeyData(
                    type_url=type_url,
                    value=key_proto,
                    key_material_type=tink_pb2.KeyData.SYMMETRIC,
                ),
                status=tink_pb2.ENABLED,
                key_id=1,
                output_prefix_type=tink_pb2.RAW,
            )
        ],
    )
    return cleartext_keyset_handle.from_keyset(keyset)


def streaming_primitive(key: bytes, segment_size: int) -> streaming_aead.StreamingAead:
    """Tink's AES-GCM-HKDF streaming AEAD with HKDF-SHA256 and a 32-byte derived key."""
    params = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
        ciphertext_segment_size=segment_size,
        derived_key_size=32,
        hkdf_hash_type=common_pb2.SHA256,
    )
    key_proto = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(
        version=0, key_value=key, params=params
    )
    handle = _handle(_STREAMING_TYPE_URL, key_proto.SerializeToString())
    return handle.primitive(streaming_aead.StreamingAead)


class _KeepOpen(io.BytesIO):
    """A BytesIO whose contents survive Tink closing it at the end of the stream."""

    def close(self) -> None:
        pass


def tink_encrypt_stream(
    key: bytes, segment_size: int, plaintext: bytes, associated_data: bytes
) -> bytes:
    """Encrypt with Tink, writing in uneven pieces so its own buffering is exercised."""
    destination = _KeepOpen()
    primitive = streaming_primitive(key, segment_size)
    with primitive.new_encrypting_stream(destination, associated_data) as stream:
        for start in range(0, len(plaintext), 1000):
            stream.write(plaintext[start : start + 1000])
    return destination.getvalue()


def tink_decrypt_stream(
    key: bytes, segment_size: int, ciphertext: bytes, associated_data: bytes
) -> bytes:
    """Decrypt with Tink; raises tink.TinkError if it does not authenticate."""
    primitive = streaming_primitive(key, segment_size)
    with primitive.new_decrypting_stream(io.BytesIO(ciphertext), associated_data) as stream:
        return stream.read()


def aes_gcm_primitive(key: bytes) -> aead.Aead:
    """Tink's AES-256-GCM AEAD; RAW ciphertext is nonce (12 bytes) ‖ ciphertext ‖ tag."""
    key_proto = aes_gcm_pb2.AesGcmKey(version=0, key_value=key)
    return _handle(_AES_GCM_TYPE_URL, key_proto.SerializeToString()).primitive(aead.Aead)
