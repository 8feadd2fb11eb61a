"""Writes the reader's fixture files byte for byte (run once; the files are checked in).

    python tests/data/csv/make_fixtures.py

Each file pins one trait of real exports; the bytes are spelled out here so a reviewer can see
exactly what is on disk (BOMs, cp1252 bytes, CRLF, CR-only, embedded newlines).
"""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

HERE = Path(__file__).parent

FIXTURES: dict[str, bytes] = {
    "utf8_bom_crlf.csv": codecs.BOM_UTF8
    + "name,amount,joined\r\nZoë,1,2025-01-05\r\nJosé,2,2025-01-06\r\nÅsa,3,2025-01-07\r\n".encode(),
    "utf16_bom_semicolon.csv": "city;temp;when\nMünchen;3,5;05.01.2025\nKöln;4,25;06.01.2025\n"
    "Zürich;-1,75;13.01.2025\n".encode("utf-16"),
    "utf16le_no_bom.csv": "name,amount\nZoë,1\nJosé,2\n".encode("utf-16-le"),
    "blank_and_space_lines.csv": b"a,b\r\n\r\n1,2\r\n   \r\n3,4\r\n\t\r\n5,6\r\n\r\n",
    "trailing_delimiter.csv": b"id;name;amount\r\n1;Ann;10;\r\n2;Bob;20;\r\n3;Cy;30\r\n4;Di;40;x\r\n",
    "unclosed_quote.csv": b'id,note\n1,ok\n2,fine\n3,"never closed\n4,x\n5,y\n',
    "cp1252.csv": "name,price\nCafé,€12\nCrème brûlée,€8.50\nNaïve “quote”,€3\n".encode("cp1252"),
    "semicolon_decimal_comma.csv": (
        "Datum;Umsatz;Anteil;Menge\n"
        "05.01.2025;1.234,50 €;12,5%;1.200\n"
        "06.01.2025;987,00 €;7,25%;950\n"
        "13.01.2025;12.000,75 €;80,25%;2.050\n"
    ).encode(),
    "tab.tsv": b"region\tsales\tshare\nNorth\t1200\t0.4\nSouth\t900\t0.3\nEast\t900\t0.3\n",
    "pipe.csv": b"id|name|score\n1|Ann|9.5\n2|Bob|7.25\n3|Cy|8\n",
    "quoted_newlines.csv": (
        b'id,comment,amount\n1,"hello, world",5\n2,"line one\nline two",6\n3,"she said ""hi""",7\n'
    ),
    "no_header.csv": b"2025-01-01,10,3.5\n2025-01-02,12,4.0\n2025-01-03,9,2.75\n2025-01-04,15,5.5\n",
    "duplicate_empty_headers.csv": b"name,value,value,, total ,value_2\na,1,2,x,3,4\nb,5,6,y,7,8\n",
    "money.csv": (
        b"item,price,growth,units,fee\n"
        b'A,"$1,234.56",12.5%,"1,200",USD 12\n'
        b"B,$99.99,-3%,850,EUR 7.50\n"
        b'C,"\xc2\xa310,000.00",0.5%,"12,000",-\n'
        b"D,\xc2\xa55,100%,1,\xe2\x82\xac3\n"
    ),
    "dates.csv": (
        b"dmy,mdy,text_date,abbrev,stamp,iso_z,ambiguous\n"
        b'13/01/2025,01/13/2025,"Jan 5, 2025",05-Jan-2025,2025-01-05 14:30:00,2025-01-05T14:30:00Z,01/02/2025\n'
        b'02/02/2025,02/02/2025,"Feb 17, 2025",17-Feb-2025,2025-02-17 08:05:10,2025-02-17T08:05:10+01:00,03/04/2025\n'
        b'28/12/2024,12/28/2024,"Dec 28, 2024",28-Dec-2024,2024-12-28 23:59:59,2024-12-28T23:59:59Z,05/06/2025\n'
    ),
    "month_names.csv": b"Month,Revenue\nJan,45000\nFeb,47000\nMar,52000\nApr,49000\n",
    "ragged.csv": (b'a,b,c\n1,2,3\n4,5,6,7\n8,"multi\nline",9\n10,11,12,13,14\n15,16\n\n17,18,19\n'),
    "booleans.csv": (
        b"active,is_member,answer,code,yn\nyes,1,TRUE,1,y\nno,0,false,0,N\nYes,1,True,1,n\n,0,,0,y\n"
    ),
    "title_lines.csv": b"Sales report\n# Generated 2025-01-05\n\ndate,amount\n2025-01-01,10\n2025-01-02,20\n",
    "cr_only.csv": b"x,y\r1,2\r3,4\r5,6\r",
    "excel_sep.csv": b"sep=;\na;b\n1,5;2\n3;4,25\n",
    "missing_tokens.csv": (b"label,value,note\na,1.5,NA\nb,N/A,null\nc,-,None\nd,NaN,ok\ne,2.5,\nf,null,-\n"),
    "identifiers.csv": b"zip,card,qty\n02134,1234567890123456,1\n10001,1234567890123457,2\n94105,1234567890123458,3\n",
    "formulas.csv": b"name,note,amount\nA,=1+2,-5\nB,+cmd,3\nC,@SUM(A1),4\nD,-minus,5\nE,plain,6\n",
    "mostly_numeric.csv": b"id,reading\n"
    + b"".join(f"{i},{i * 1.5}\n".encode() for i in range(1, 40))
    + b"40,broken\n",
}


def gzip_bytes(data: bytes) -> bytes:
    """gzip with a fixed mtime and no file name, so the bytes never change."""
    return gzip.compress(data, mtime=0)


def main() -> None:
    for name, data in FIXTURES.items():
        (HERE / name).write_bytes(data)
    (HERE / "sales.csv.gz").write_bytes(
        gzip_bytes(b"date,product,quantity\n2025-01-01,Widget A,40\n2025-01-02,Widget B,25\n")
    )
    (HERE / "sales.tsv.gz").write_bytes(gzip_bytes(b"date\tproduct\tquantity\n2025-01-01\tWidget A\t40\n"))


if __name__ == "__main__":
    main()
