"""A ready ITI-41 request for the DMP simulator (load tests, demos): an FRCP CDA for the first test patient, as
MTOM, with a Bearer token. Repeated, the same request is refused as a duplicate uniqueId after the first, which
still exercises the whole parse-and-check path."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from harness.simulators.dmp import mtom, xds

_CDA = (
    b'<ClinicalDocument xmlns="urn:hl7-org:v3"><setId root="1.2.250.1.999" extension="BENCH"/><component>'
    b"<structuredBody/></component></ClinicalDocument>"
)


def example_provide_and_register(sim: Any) -> tuple[str, dict[str, str], bytes]:
    entry, ins = f"urn:uuid:{uuid.uuid4()}", next(iter(sim.patients))
    schemes = xds.SCHEME
    classification = "".join(
        f'<rim:Classification classificationScheme="{schemes[k]}" classifiedObject="{entry}" nodeRepresentation="{v}"/>'
        for k, v in (
            ("type_code", "34794-8"),
            ("class_code", "10"),
            ("format_code", "urn:asip:ci-sis:frcp:2011"),
            ("confidentiality", "N"),
        )
    )
    envelope = (
        f'<soap:Envelope xmlns:soap="{xds.SOAP}"><soap:Body><xds:ProvideAndRegisterDocumentSetRequest '
        f'xmlns:xds="{xds.NS["xds"]}" xmlns:lcm="{xds.NS["lcm"]}" xmlns:rim="{xds.NS["rim"]}" xmlns:xop="{xds.NS["xop"]}">'
        f'<lcm:SubmitObjectsRequest><rim:RegistryObjectList><rim:ExtrinsicObject id="{entry}" mimeType="text/xml">'
        f"{classification}"
        f'<rim:ExternalIdentifier identificationScheme="{schemes["unique_id"]}" value="1.2.250.1.999^{uuid.uuid4().hex}"/>'
        f'<rim:ExternalIdentifier identificationScheme="{schemes["patient_id"]}" value="{ins}^^^&amp;1.2.250.1.213.1.4.10&amp;ISO"/>'
        f'</rim:ExtrinsicObject></rim:RegistryObjectList></lcm:SubmitObjectsRequest><xds:Document id="{entry}">'
        f'<xop:Include href="cid:doc@bench"/></xds:Document></xds:ProvideAndRegisterDocumentSetRequest></soap:Body></soap:Envelope>'
    ).encode()
    content_type, body = mtom.build(envelope, {"doc@bench": _CDA})
    token = jwt.encode(
        {
            "sub": "f:810001234567",
            "SubjectNameID": "810001234567",
            "token_use": "psc_trust_space",
            "exp": int(time.time()) + 3600,
        },
        "b" * 32,
        algorithm="HS256",
    )
    return sim.endpoint_url, {"Content-Type": content_type, "Authorization": f"Bearer {token}"}, body
