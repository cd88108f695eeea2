"""Products routes: the catalogue."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from app.auth.permissions import STAFF, auth_required
from app.products import services
from app.products.schemas import ProductIn, ProductListArgs, ProductOut, ProductPage, ProductPatch
from app.web.json_body import Blueprint
from app.web.openapi import links_doc, problem_doc

CREATED_PRODUCT = {"product_id": "$response.body#/id"}  # links from the 201 answer to the operations on it

blp = Blueprint("products", __name__, description="The catalogue. Names are unique ignoring case and spacing.")


@blp.route("")
class Products(MethodView):
    @auth_required()
    @blp.arguments(ProductListArgs, location="query")
    @blp.response(200, ProductPage)
    @blp.doc(operationId="listProducts")
    def get(self, args):
        """List products by name"""
        rows, next_cursor = services.list_products(args)
        return {"data": rows, "next_cursor": next_cursor}

    @auth_required(*STAFF)
    @blp.arguments(ProductIn)
    @blp.response(201, ProductOut)
    @blp.alt_response(409, **problem_doc("`duplicate_product`: the normalized name exists."))
    @blp.doc(operationId="createProduct")
    @blp.doc(**links_doc(201, getProduct=CREATED_PRODUCT, updateProduct=CREATED_PRODUCT, deleteProduct=CREATED_PRODUCT))
    def post(self, data):
        """Create a product"""
        product = services.create_product(data)
        return product, 201, {"Location": url_for("products.ProductById", product_id=product.id)}


@blp.route("/<int:product_id>")
class ProductById(MethodView):
    @auth_required()
    @blp.response(200, ProductOut)
    @blp.doc(operationId="getProduct")
    def get(self, product_id):
        """Get a product"""
        return services.get_product(product_id)

    @auth_required(*STAFF)
    @blp.arguments(ProductPatch)
    @blp.response(200, ProductOut)
    @blp.alt_response(409, **problem_doc("`duplicate_product`: the new name belongs to another product."))
    @blp.doc(operationId="updateProduct")
    def patch(self, data, product_id):
        """Change a product (existing orders keep their snapshots)"""
        return services.update_product(product_id, data)

    @auth_required(*STAFF)
    @blp.response(204)
    @blp.doc(operationId="deleteProduct")
    def delete(self, product_id):
        """Archive a product (it stays on old orders and in reports)"""
        services.archive_product(product_id)
