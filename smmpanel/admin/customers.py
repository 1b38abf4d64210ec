"""Operator pages: customers."""

from fastapi import APIRouter

router = APIRouter()
