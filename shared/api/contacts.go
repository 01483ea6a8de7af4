package api

import "net/http"

func (s *Server) registerContacts(mux *http.ServeMux) {}
