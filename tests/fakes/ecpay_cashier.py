"""A stand-in for ECPay's cashier page, for browser tests: it takes the panel's signed
AioCheckOut form (refusing a wrong CheckMacValue as ECPay does), shows a "Pay" button, and
when pressed sends the signed paid notice to the form's ReturnURL, server to server, before it
sends the browser back to ClientBackURL. Signed with ECPay's published stage keys.

Run: python tests/fakes/ecpay_cashier.py --port N
"""

import argparse
import html
import secrets

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from smmpanel.payments.gateways.ecpay import check_mac_value

HASH_KEY = "5294y06JbISpM5x9"
HASH_IV = "v77hoKGq4kWxNNIS"
trades: dict[str, dict[str, str]] = {}


async def checkout(request: Request) -> Response:
    fields = {name: str(value) for name, value in (await request.form()).items()}
    given = fields.get("CheckMacValue", "")
    if given.upper() != check_mac_value(fields, HASH_KEY, HASH_IV):
        return HTMLResponse("<h1>CheckMacValue Error</h1>", status_code=400)
    trades[fields["MerchantTradeNo"]] = fields
    amount = html.escape(fields["TotalAmount"])
    trade_no = html.escape(fields["MerchantTradeNo"])
    return HTMLResponse(
        "<!doctype html><title>ECPay (test)</title><h1>ECPay test cashier</h1>"
        f"<p>NT$ {amount} · {trade_no}</p>"
        f'<form method="post" action="/pay"><input type="hidden" name="trade" value="{trade_no}">'
        '<button type="submit">Pay</button></form>'
    )


async def pay(request: Request) -> Response:
    trade = trades[str((await request.form())["trade"])]
    notice = {
        "MerchantID": trade["MerchantID"],
        "MerchantTradeNo": trade["MerchantTradeNo"],
        "StoreID": "",
        "RtnCode": "1",
        "RtnMsg": "交易成功",
        "TradeNo": secrets.token_hex(8).upper(),
        "TradeAmt": trade["TotalAmount"],
        "PaymentDate": trade["MerchantTradeDate"],
        "PaymentType": "Credit_CreditCard",
        "PaymentTypeChargeFee": "0",
        "TradeDate": trade["MerchantTradeDate"],
        "SimulatePaid": "0",
        "CustomField1": "",
        "CustomField2": "",
        "CustomField3": "",
        "CustomField4": "",
    }
    notice["CheckMacValue"] = check_mac_value(notice, HASH_KEY, HASH_IV)
    async with httpx.AsyncClient() as http:
        answer = await http.post(trade["ReturnURL"], data=notice, timeout=30)
    if answer.text != "1|OK":
        return HTMLResponse(f"<h1>The shop answered {html.escape(answer.text)}</h1>", 502)
    return RedirectResponse(trade["ClientBackURL"], status_code=303)


app = Starlette(
    routes=[
        Route("/Cashier/AioCheckOut/V5", checkout, methods=["POST"]),
        Route("/pay", pay, methods=["POST"]),
        Route("/", lambda request: HTMLResponse("ok")),
    ]
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, log_level="warning")
