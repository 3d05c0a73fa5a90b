#!/usr/bin/env python3
"""Writes the LLM bench's fixture pages (pages/*.html) and their truth (pages/truth.json):
product pages in a few common layouts (a spec list, a table, prose, a shop page with a
header, navigation and footer around the product), each with one name, price and
manufacturer to extract. Deterministic: run it again and the files do not change."""
import json, os

PRODUCTS = [
    ("Acme Anvil 3000", "$49.99", "Acme Corporation", "A heavy steel anvil for blacksmiths. It weighs 50 kg and ships in a wooden crate."),
    ("Polar Kettle", "$25.00", "Nordic Steel", "An electric kettle that boils one litre of water in three minutes."),
    ("Trail Runner X2", "$89.95", "Summit Outdoor", "A light running shoe with a grippy sole for muddy trails."),
    ("Lumen Desk Lamp", "$34.50", "Brightline", "An LED desk lamp with three colour temperatures and a USB port."),
    ("Aero Bike Helmet", "$59.00", "Velo Gear", "A vented road helmet that weighs 250 grams."),
    ("Oak Cutting Board", "$22.75", "Woodcraft Studio", "A thick oak board with a juice groove, oiled by hand."),
    ("Storm Rain Jacket", "$120.00", "Northwind Apparel", "A waterproof jacket with taped seams and a packable hood."),
    ("Echo Smart Speaker", "$79.99", "SoundWave", "A small speaker with voice control and room-filling sound."),
    ("Glide Fountain Pen", "$45.00", "Inkwell & Co", "A brass fountain pen with a fine steel nib."),
    ("Terra Plant Pot", "$15.25", "Green Thumb", "A glazed ceramic pot with a drainage hole, 20 cm wide."),
]

SHIPPING = "<h2>Shipping</h2><p>Free shipping on orders over $100. Delivery takes 3 to 5 business days.</p>"

def layout(i, name, price, maker, blurb):
    kind = i % 4
    if kind == 0:  # spec lines
        body = f"<article><h1>{name}</h1><p>Manufacturer: {maker}</p><p>Price: {price}</p><p>{blurb}</p>{SHIPPING}</article>"
    elif kind == 1:  # a spec table
        body = (f"<article><h1>{name}</h1><p>{blurb}</p><table><tr><th>Price</th><td>{price}</td></tr>"
                f"<tr><th>Manufacturer</th><td>{maker}</td></tr><tr><th>Warranty</th><td>2 years</td></tr></table>{SHIPPING}</article>")
    elif kind == 2:  # prose
        body = (f"<article><h1>{name}</h1><p>The {name} is made by {maker}. {blurb}</p>"
                f"<p>It costs {price}, taxes included.</p>{SHIPPING}</article>")
    else:  # a shop page: header, navigation, footer around the product
        body = (f"<header><a href='/'>Home</a> <a href='/shop'>Shop</a> <a href='/cart'>Cart (0)</a></header>"
                f"<nav><ul><li><a href='/new'>New</a></li><li><a href='/sale'>Sale</a></li></ul></nav>"
                f"<main><div class='product'><h1>{name}</h1><div class='price'>Price: {price}</div>"
                f"<div class='brand'>Manufacturer: {maker}</div><p>{blurb}</p></div>{SHIPPING}</main>"
                f"<footer><p>Copyright 2026 The Shop. All rights reserved.</p></footer>")
    return f"<!doctype html><html><head><title>{name}</title></head><body>{body}</body></html>\n"

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pages")
os.makedirs(here, exist_ok=True)
truth = {}
for i, (name, price, maker, blurb) in enumerate(PRODUCTS):
    file = f"p{i:02}.html"
    with open(os.path.join(here, file), "w") as f:
        f.write(layout(i, name, price, maker, blurb))
    truth[file] = {"name": name, "price": price, "manufacturer": maker}
with open(os.path.join(here, "truth.json"), "w") as f:
    json.dump(truth, f, indent=1)
    f.write("\n")
